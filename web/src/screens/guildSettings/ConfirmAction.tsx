// A confirmation for a destructive action that talks to the server: it stays open while the
// request runs and shows why it failed, instead of closing and losing the error.
import { useMutation } from '@tanstack/react-query';
import type { FormEvent, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../../api/errors';
import { Dialog } from '../../ui/Dialog';

export interface ConfirmActionProps {
  title: string;
  description: string;
  confirmLabel: string;
  /** The request; the dialog closes when it succeeds. */
  action: () => Promise<unknown>;
  onClose: () => void;
  /** Extra fields (a reason, the name to type); give one of them `autoFocus`. */
  children?: ReactNode;
  /** False keeps the confirm button disabled (the typed name does not match yet). */
  canConfirm?: boolean;
  /** `primary` for actions that are not destructive. */
  tone?: 'danger' | 'primary';
}

export function ConfirmAction({ title, description, confirmLabel, action, onClose, children, canConfirm = true, tone = 'danger' }: ConfirmActionProps) {
  const { t } = useTranslation();
  const run = useMutation({ mutationFn: action, onSuccess: onClose });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (canConfirm && !run.isPending) run.mutate();
  };
  return (
    <Dialog title={title} description={description} onClose={onClose} className="confirm-dialog">
      <form className="form" onSubmit={submit}>
        {children}
        {run.isError && (
          <p className="form-error" role="alert">
            {errorMessage(t, run.error)}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className={`button button-${tone}`} autoFocus={!children} disabled={!canConfirm || run.isPending}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
